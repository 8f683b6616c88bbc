# Configures, builds and runs tests/consumer against slope, as a user would.
#   cmake -DMODE=subdirectory|installed -DSOURCE_DIR=<slope source> -DBUILD_DIR=<slope build>
#         -DWORK_DIR=<scratch> -DGENERATOR=... -DCXX_COMPILER=... -DCXX_FLAGS=...
#         -DLINKER_FLAGS=... -DCONFIG=<build type> -P run_consumer.cmake
# MODE=installed first runs `cmake --install` of BUILD_DIR into WORK_DIR/prefix, then
# builds the program with BUILD_DIR's flags; MODE=subdirectory builds slope with it.
cmake_minimum_required(VERSION 3.20)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

set(consumer_src ${CMAKE_CURRENT_LIST_DIR})
set(build ${WORK_DIR}/build)
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})

set(args -S ${consumer_src} -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})

if(MODE STREQUAL "subdirectory")
  # slope is compiled afresh with the program, so any consistent flags work: an
  # unoptimised build keeps this test quick under every preset.
  list(APPEND args -DSLOPE_SOURCE_DIR=${SOURCE_DIR} -DCMAKE_BUILD_TYPE=Debug
       -DCMAKE_CXX_FLAGS_DEBUG=-O0)  # no -g: a third less compile time
elseif(MODE STREQUAL "installed")
  # The program links the installed library as built, so it takes the same flags
  # (under the asan preset, the sanitizers' runtime).
  list(APPEND args "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
  if(CONFIG)
    list(APPEND args -DCMAKE_BUILD_TYPE=${CONFIG})
    run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${CONFIG})
  else()
    run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  endif()
  # Only the freshly installed package may satisfy find_package(slope).
  list(APPEND args -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
       -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
else()
  message(FATAL_ERROR "MODE must be subdirectory or installed, not '${MODE}'")
endif()

run(${CMAKE_COMMAND} ${args})
if(MODE STREQUAL "installed")
  file(STRINGS ${build}/CMakeCache.txt slope_dir REGEX "^slope_DIR:")
  string(FIND "${slope_dir}" "${prefix}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "find_package(slope) did not use the installed package: ${slope_dir}")
  endif()
endif()
run(${CMAKE_COMMAND} --build ${build} --parallel 2)
run(${build}/app)
