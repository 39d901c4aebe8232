#include "lib/rt.hpp"
namespace guest {
const char kProgram[] = "exits";
void main() {}
}
