# Shared flags and helper functions. Component CMakeLists use only these.

set(MAMORI_WARN -Wall -Wextra -Werror -Wno-missing-field-initializers)

# Flags for code that runs inside the VMM (see docs/architecture.md):
# no exceptions/RTTI, no red zone (interrupts on the VMM stack), no SSE
# (guest FPU state is not saved on exits), stack protector on.
set(MAMORI_FS_CXX_FLAGS
  -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics
  -fno-asynchronous-unwind-tables -fno-unwind-tables
  -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-avx
  -fstack-protector-strong -fno-pic -fno-pie -mcmodel=kernel
  -mstack-protector-guard=global -fno-common -fno-omit-frame-pointer -g -O2
  ${MAMORI_WARN})

set(MAMORI_HOST_SAN_FLAGS)
if(MAMORI_SANITIZE)
  set(MAMORI_HOST_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
endif()
if(MAMORI_FUZZ)
  # Libraries linked into fuzz targets need coverage instrumentation.
  list(APPEND MAMORI_HOST_SAN_FLAGS -fsanitize=fuzzer-no-link)
endif()

# mamori_pure_library(NAME SOURCES... [INCLUDE dir])
#   Host library NAME (sanitized) + freestanding object library NAME_fs.
function(mamori_pure_library name)
  cmake_parse_arguments(A "" "" "SOURCES;INCLUDE" ${ARGN})
  set(srcs ${A_SOURCES} ${A_UNPARSED_ARGUMENTS})
  if(NOT A_INCLUDE)
    set(A_INCLUDE ${CMAKE_SOURCE_DIR})
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${A_INCLUDE})
  target_compile_options(${name} PRIVATE ${MAMORI_WARN} ${MAMORI_HOST_SAN_FLAGS} -g)
  target_compile_definitions(${name} PUBLIC MAMORI_HOSTED=1)
  target_link_options(${name} PUBLIC ${MAMORI_HOST_SAN_FLAGS})
  if(MAMORI_FREESTANDING)
    add_library(${name}_fs OBJECT ${srcs})
    target_include_directories(${name}_fs PUBLIC ${A_INCLUDE})
    target_compile_options(${name}_fs PRIVATE ${MAMORI_FS_CXX_FLAGS})
    target_compile_definitions(${name}_fs PUBLIC MAMORI_FREESTANDING=1)
  endif()
endfunction()

# mamori_unit_test(NAME SOURCES... LIBS libs...) — a Catch2 test executable
# registered with ctest under label "unit".
function(mamori_unit_test name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(MAMORI_FUZZ)
    return()   # the fuzz build (clang) only builds fuzz targets
  endif()
  set(srcs ${A_SOURCES} ${A_UNPARSED_ARGUMENTS})
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE mamori_catch_main ${A_LIBS})
  target_compile_options(${name} PRIVATE ${MAMORI_WARN} ${MAMORI_HOST_SAN_FLAGS})
  target_link_options(${name} PRIVATE ${MAMORI_HOST_SAN_FLAGS})
  add_test(NAME ${name} COMMAND ${name})
  set(labels unit ${A_LABELS})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT 300)
endfunction()

# mamori_require(VAR PROGRAM name | LIBRARY name  PACKAGE debian-package  FOR "what needs it")
#   find_program / find_library into VAR. When it is missing, the tests
#   that need it cannot be built or registered, so a stand-in test
#   prerequisite_<package> is registered instead: it fails naming the
#   package, or skips when MAMORI_ALLOW_SKIP=1 (never under CI=true),
#   as tools/lib/mamori_tools/prereq.py decides. Nothing goes missing
#   silently (docs/development.md, "Missing tools").
function(mamori_require var)
  cmake_parse_arguments(A "" "PROGRAM;LIBRARY;PACKAGE;FOR" "" ${ARGN})
  if(A_PROGRAM)
    find_program(${var} ${A_PROGRAM})
  else()
    find_library(${var} NAMES ${A_LIBRARY})
  endif()
  if(${var})
    return()
  endif()
  message(WARNING "Debian package ${A_PACKAGE} is missing: ${A_FOR} cannot run; "
                  "test prerequisite_${A_PACKAGE} fails until it is installed (tools/mamori setup)")
  get_property(done GLOBAL PROPERTY MAMORI_PREREQUISITE_TESTS)
  if(NOT "${A_PACKAGE}" IN_LIST done)
    set_property(GLOBAL APPEND PROPERTY MAMORI_PREREQUISITE_TESTS ${A_PACKAGE})
    add_test(NAME prerequisite_${A_PACKAGE}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/lib/mamori_tools/prereq.py
              --package ${A_PACKAGE} --what "${A_FOR}")
    set_tests_properties(prerequisite_${A_PACKAGE} PROPERTIES LABELS "unit" SKIP_RETURN_CODE 77 TIMEOUT 30)
  endif()
endfunction()

# mamori_python_test(NAME SCRIPT [ARGS...] [LABELS l...] [TIMEOUT s])
#   A Python test script (unittest or plain), run from its folder with
#   tools/lib importable. A script that exits 77 is skipped (prereq.py
#   decides when that is allowed).
function(mamori_python_test name script)
  cmake_parse_arguments(A "" "TIMEOUT" "ARGS;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  get_filename_component(dir ${script} DIRECTORY)
  add_test(NAME ${name} COMMAND ${Python3_EXECUTABLE} ${script} ${A_ARGS} WORKING_DIRECTORY ${dir})
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONPATH=${CMAKE_SOURCE_DIR}/tools/lib;PYTHONDONTWRITEBYTECODE=1;MAMORI_BUILD=${CMAKE_BINARY_DIR}")
endfunction()

# mamori_fuzz_target(NAME SOURCES... LIBS libs... [SECONDS n])
#   libFuzzer target (clang only); registered with ctest as fuzz_NAME,
#   a short time-limited run (label "fuzz").
function(mamori_fuzz_target name)
  cmake_parse_arguments(A "" "SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT MAMORI_FUZZ)
    return()
  endif()
  if(NOT A_SECONDS)
    set(A_SECONDS 20)
  endif()
  set(srcs ${A_SOURCES} ${A_UNPARSED_ARGUMENTS})
  add_executable(fuzz_${name} ${srcs})
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined -g -O1)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_${name} PRIVATE ${A_LIBS})
  add_test(NAME fuzz_${name}
    COMMAND fuzz_${name} -max_total_time=${A_SECONDS} -rss_limit_mb=2048 -print_final_stats=1)
  set_tests_properties(fuzz_${name} PROPERTIES LABELS "fuzz" TIMEOUT 600)
endfunction()
