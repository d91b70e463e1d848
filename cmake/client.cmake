# client.cmake - liblogship (src/client/, include/logship.h): the shared and
# static library, `logship send`, the example, the client tests and the
# latency benchmark. Included from the top-level CMakeLists.txt.
#
# The library compiles three helpers of src/common (levels, UTF-8
# validation, the client side of TLS) into itself with hidden visibility:
# liblogship.so exports only logship_* (ctest client_exports). It links
# OpenSSL (libssl, libcrypto) for tls://. It must never abort its host
# process, so it links nothing that can: not src/common/buf.c (whose
# allocation failures call oom(), which aborts; the library's buffers are
# src/client/cbuf.h, which report), nor abort(), exit() or assert(). ctest
# client_symbols checks the built libraries (tests/layers/check_client_symbols.sh).

option(LOGSHIP_TSAN "Build only the client tests, under ThreadSanitizer" OFF)
find_package(Threads REQUIRED)

set(LOGSHIP_CLIENT_SOURCES
  src/client/queue.c
  src/client/format.c
  src/client/proto.c
  src/client/cbatch.c
  src/client/spool.c
  src/client/sender.c
  src/client/logship.c
  src/common/level.c
  src/common/utf8.c
  src/common/tls_client.c
)

# One compilation, two libraries.
function(logship_client_objects name)
  add_library(${name} OBJECT ${LOGSHIP_CLIENT_SOURCES})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                           C_VISIBILITY_PRESET hidden)
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${LOGSHIP_WARNINGS} ${ARGN})
  target_link_libraries(${name} PRIVATE OpenSSL::SSL)
endfunction()

if(NOT LOGSHIP_TSAN)
  logship_client_objects(logship_client_obj)
  add_library(logship_client SHARED $<TARGET_OBJECTS:logship_client_obj>)
  set_target_properties(logship_client PROPERTIES OUTPUT_NAME logship
                        VERSION ${PROJECT_VERSION} SOVERSION 0)
  target_include_directories(logship_client PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(logship_client PRIVATE Threads::Threads OpenSSL::SSL OpenSSL::Crypto)

  add_library(logship_client_static STATIC $<TARGET_OBJECTS:logship_client_obj>)
  set_target_properties(logship_client_static PROPERTIES OUTPUT_NAME logship)
  target_include_directories(logship_client_static PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(logship_client_static PUBLIC Threads::Threads OpenSSL::SSL OpenSSL::Crypto)

  # `logship send` is on the public API
  target_sources(logship PRIVATE src/cli/send.c src/cli/send_http.c)
  target_link_libraries(logship PRIVATE logship_client_static)

  # examples/: built, so they keep compiling
  add_executable(example_hello examples/hello.c)
  target_compile_options(example_hello PRIVATE ${LOGSHIP_WARNINGS})
  target_link_libraries(example_hello PRIVATE logship_client)

  # bench/client_latency: log-call latency (bench/client_latency.sh)
  add_executable(client_latency bench/client_latency.c)
  target_compile_options(client_latency PRIVATE ${LOGSHIP_WARNINGS})
  target_link_libraries(client_latency PRIVATE logship_client_static m)

  # the driver the integration tests (tests/integration/test_client.py) run
  add_executable(client_driver tests/integration/clients/client_driver.c)
  target_compile_options(client_driver PRIVATE ${LOGSHIP_WARNINGS})
  target_link_libraries(client_driver PRIVATE logship_client_static)
endif()

if(LOGSHIP_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  # tests/unit/client/test_<module>.c: test_client_<module>, ctest
  # unit_client_<module>, as the top-level CMakeLists.txt names the others
  file(GLOB LOGSHIP_CLIENT_UNIT_SOURCES CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/tests/unit/client
       ${CMAKE_SOURCE_DIR}/tests/unit/client/test_*.c)
  string(REGEX REPLACE "test_([a-z0-9_]+)\\.c" "\\1" LOGSHIP_CLIENT_UNIT_TESTS
         "${LOGSHIP_CLIENT_UNIT_SOURCES}")
  if(LOGSHIP_TSAN)
    # the ThreadSanitizer build (see unit_client_tsan below): the queue and
    # the whole library under threads
    logship_client_objects(logship_client_tsan_obj -fsanitize=thread)
    foreach(m queue logship)
      set(t client_${m})
      add_executable(test_${t}_tsan tests/unit/client/test_${m}.c $<TARGET_OBJECTS:logship_client_tsan_obj>)
      target_compile_options(test_${t}_tsan PRIVATE ${LOGSHIP_WARNINGS} -fsanitize=thread)
      target_include_directories(test_${t}_tsan PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
      target_link_options(test_${t}_tsan PRIVATE -fsanitize=thread)
      target_link_libraries(test_${t}_tsan PRIVATE PkgConfig::CMOCKA Threads::Threads OpenSSL::SSL
                            OpenSSL::Crypto)
    endforeach()
  else()
    foreach(m ${LOGSHIP_CLIENT_UNIT_TESTS})
      set(t client_${m})
      add_executable(test_${t} tests/unit/client/test_${m}.c)
      target_compile_options(test_${t} PRIVATE ${LOGSHIP_WARNINGS})
      target_include_directories(test_${t} PRIVATE ${CMAKE_SOURCE_DIR}/src)
      target_link_libraries(test_${t} PRIVATE logship_client_static PkgConfig::CMOCKA)
      add_test(NAME unit_${t} COMMAND test_${t})
    endforeach()
    # ThreadSanitizer can not share a binary with AddressSanitizer: the queue
    # and API tests are built again, with -fsanitize=thread, in their own
    # build directory, and run from there.
    set(TSAN_DIR ${CMAKE_BINARY_DIR}/tsan)
    add_test(NAME unit_client_tsan
      COMMAND sh -c "{ cmake -S '${CMAKE_SOURCE_DIR}' -B '${TSAN_DIR}' -DCMAKE_C_COMPILER='${CMAKE_C_COMPILER}' -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_TSAN=ON -DLOGSHIP_TESTS=ON -DLOGSHIP_SANITIZE=OFF -DLOGSHIP_FUZZ=OFF && cmake --build '${TSAN_DIR}' --target test_client_queue_tsan test_client_logship_tsan; } >'${TSAN_DIR}.log' 2>&1 || { cat '${TSAN_DIR}.log'; exit 1; }; export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1; '${TSAN_DIR}/test_client_queue_tsan' && '${TSAN_DIR}/test_client_logship_tsan'")
    set_tests_properties(unit_client_tsan PROPERTIES TIMEOUT 900)

    # Nothing in the library can end its host process (check_client_symbols.sh):
    # the libraries as built (with --sanitized when they are: the sanitizer
    # runtime's entry points are the test build's own), and the same objects
    # compiled without sanitizers, as a release build has them, with nothing
    # allowed. The self-test: a library that aborts is refused.
    logship_client_objects(logship_client_plain_obj -fno-sanitize=all)
    add_library(logship_client_plain STATIC $<TARGET_OBJECTS:logship_client_plain_obj>)
    add_library(logship_client_plain_so SHARED $<TARGET_OBJECTS:logship_client_plain_obj>)
    target_link_options(logship_client_plain_so PRIVATE -fno-sanitize=all)
    target_link_libraries(logship_client_plain_so PRIVATE Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
    add_library(client_symbols_bad STATIC tests/layers/client_symbols_bad.c src/common/buf.c)
    target_include_directories(client_symbols_bad PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_compile_options(client_symbols_bad PRIVATE -fno-sanitize=all)
    set(symbols_check sh ${CMAKE_SOURCE_DIR}/tests/layers/check_client_symbols.sh)
    if(LOGSHIP_SANITIZE)
      set(symbols_built ${symbols_check} --sanitized)
    else()
      set(symbols_built ${symbols_check})
    endif()
    add_test(NAME client_symbols
      COMMAND ${symbols_built} $<TARGET_FILE:logship_client> $<TARGET_FILE:logship_client_static>)
    add_test(NAME client_symbols_plain
      COMMAND ${symbols_check} $<TARGET_FILE:logship_client_plain>
              $<TARGET_FILE:logship_client_plain_so>)
    add_test(NAME client_symbols_selftest
      COMMAND ${symbols_check} --self-test $<TARGET_FILE:client_symbols_bad>
              $<TARGET_FILE:logship_client_plain>)
    # liblogship.so exports logship_* and nothing else: the helpers of
    # src/common (TLS among them) and OpenSSL stay inside
    add_test(NAME client_exports
      COMMAND sh -c "syms=$(nm -D --defined-only '$<TARGET_FILE:logship_client>' | awk '{print $3}') || exit 1; echo \"$syms\" | grep -qx logship_open_size || { echo 'logship_open_size is not exported'; exit 1; }; other=$(echo \"$syms\" | grep -v '^logship_'); [ -z \"$other\" ] || { echo \"exported besides logship_*: $other\"; exit 1; }")
  endif()
endif()

# The reply parser reads network input: a fuzz driver, and its corpus
# replayed by every test run.
if(NOT LOGSHIP_TSAN)
  if(LOGSHIP_FUZZ)
    logship_client_objects(logship_client_fuzz_obj -fsanitize=fuzzer-no-link)
    add_executable(fuzz_client_reply tests/fuzz/fuzz_client_reply.c
                   $<TARGET_OBJECTS:logship_client_fuzz_obj>)
    target_compile_options(fuzz_client_reply PRIVATE -fsanitize=fuzzer ${LOGSHIP_WARNINGS})
    target_link_options(fuzz_client_reply PRIVATE -fsanitize=fuzzer)
    target_include_directories(fuzz_client_reply PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(fuzz_client_reply PRIVATE Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
  else()
    add_executable(fuzz_client_reply tests/fuzz/fuzz_client_reply.c tests/fuzz/replay_main.c)
    target_compile_options(fuzz_client_reply PRIVATE ${LOGSHIP_WARNINGS})
    target_include_directories(fuzz_client_reply PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(fuzz_client_reply PRIVATE logship_client_static)
  endif()
  if(LOGSHIP_TESTS)
    add_test(NAME fuzz_replay_client_reply
      COMMAND sh -c "$<TARGET_FILE:fuzz_client_reply> ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/client_reply/*")
  endif()
endif()
