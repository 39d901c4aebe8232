#include "lib/rt.hpp"
namespace guest {
const char kProgram[] = "hostile";
void main() {}
}
