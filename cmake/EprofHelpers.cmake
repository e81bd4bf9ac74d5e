# Build helpers used by every eprof target.
#
#   eprof_cc_library(NAME name SRCS a.cc b.cc [HDRS a.h] [DEPS x y] [PUBLIC_DEPS z])
#     A static library `eprof_name` with the alias `eprof::name`. Includes are rooted at the
#     repository. DEPS link PRIVATE; PUBLIC_DEPS are for dependencies a header exposes.
#
#   eprof_cc_binary(NAME name SRCS main.cc [DEPS ...] [OUTPUT_NAME eprof-x])
#
#   eprof_cc_test(NAME name SRCS a_test.cc [DEPS ...] [LABEL unit|integration|e2e]
#                 [TIMEOUT seconds] [ENVIRONMENT VAR=value ...] [THREADS])
#     (TIMEOUT is tripled under EPROF_SANITIZE.) THREADS: the tests exercise eprof's threads:
#     the target `thread_tests` builds them and <build>/thread_tests.txt lists their binaries
#     (the TSan suite, tests/sanitizers/tsan.sh, runs them).
#     A gtest binary; every test case becomes its own ctest entry (gtest_discover_tests with
#     DISCOVERY_MODE PRE_TEST, so discovery happens at ctest time and the build stays fast),
#     labelled LABEL (default unit). Its main() (common/test_main.cc) sets EPROF_SOURCE_DIR,
#     EPROF_BINARY_DIR, EPROF_SHARED_DIR and the ENVIRONMENT variables unless already set.

# ../shared beside the checkout holds the fixtures (real sensor captures) the tests read.
get_filename_component(EPROF_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)

set(EPROF_WARNINGS -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
    -Wno-unused-parameter -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # -Wshadow is clang's -Wshadow=local (locals and parameters only); -Wthread-safety checks the
  # ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations on absl::Mutex.
  list(APPEND EPROF_WARNINGS -Wshadow -Wthread-safety)
else()
  list(APPEND EPROF_WARNINGS -Wshadow=local)
endif()

function(_eprof_apply_common target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${target} PRIVATE ${EPROF_WARNINGS})
  if(EPROF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(eprof_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;HDRS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(target eprof_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
    _eprof_apply_common(${target})
    target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
  else()
    add_library(${target} INTERFACE ${ARG_HDRS})
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_PUBLIC_DEPS} ${ARG_DEPS})
  endif()
  add_library(eprof::${ARG_NAME} ALIAS ${target})
endfunction()

function(eprof_cc_binary)
  cmake_parse_arguments(ARG "" "NAME;OUTPUT_NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _eprof_apply_common(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  if(ARG_OUTPUT_NAME)
    set_target_properties(${ARG_NAME} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

function(eprof_cc_test)
  if(NOT EPROF_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "THREADS" "NAME;LABEL;TIMEOUT" "SRCS;DEPS;ENVIRONMENT" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  if(NOT ARG_LABEL MATCHES "^(unit|integration|e2e)$")
    message(FATAL_ERROR "eprof_cc_test(${ARG_NAME}): LABEL must be unit, integration or e2e")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(EPROF_SANITIZE)  # the sanitizers slow everything several-fold
    math(EXPR ARG_TIMEOUT "${ARG_TIMEOUT} * 3")
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _eprof_apply_common(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  # Every test sees where the sources, the build and ../shared (fixtures) are, through
  # environment variables set by common/test_main.cc (gtest_discover_tests in CMake 3.25 cannot
  # pass more than one variable through ENVIRONMENT).
  string(REPLACE ";" "\\037" extra_env "${ARG_ENVIRONMENT}")
  target_sources(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/common/test_main.cc)
  target_compile_definitions(${ARG_NAME} PRIVATE
    EPROF_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    EPROF_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}"
    EPROF_TEST_SHARED_DIR="${EPROF_SHARED_DIR}"
    EPROF_TEST_EXTRA_ENV="${extra_env}")
  if(ARG_THREADS)
    set_property(GLOBAL APPEND PROPERTY EPROF_THREAD_TESTS ${ARG_NAME})
  endif()
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
endfunction()

# eprof_proto_library(NAME name PROTOS a.proto b.proto [GRPC])
# Runs protoc (and the gRPC plugin) on protos under proto/, rooted at proto/, into the binary dir.
function(eprof_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS" ${ARGN})
  set(proto_root ${PROJECT_SOURCE_DIR}/proto)
  set(out_dir ${PROJECT_BINARY_DIR}/proto)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${proto_root} ${abs})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(outs ${out_dir}/${base}.pb.cc ${out_dir}/${base}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outs ${out_dir}/${base}.grpc.pb.cc ${out_dir}/${base}.grpc.pb.h)
      set(plugin_args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ARGS --proto_path=${proto_root} --cpp_out=${out_dir} ${plugin_args} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  add_library(eprof_${ARG_NAME} STATIC ${srcs})
  target_include_directories(eprof_${ARG_NAME} PUBLIC ${out_dir})
  target_link_libraries(eprof_${ARG_NAME} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  add_library(eprof::${ARG_NAME} ALIAS eprof_${ARG_NAME})
endfunction()
