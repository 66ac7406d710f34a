# smoke.cmake -- one CTest fuzz smoke test (fuzz/CMakeLists.txt): runs FUZZER
# for SECONDS on a fresh copy of its committed seed corpus SEEDS in WORK.
# Fails if the fuzzer finds a crash, a leak, a timeout or a sanitizer report
# (libFuzzer then exits non-zero and leaves the input in WORK/artifacts/).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORK}/corpus)
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "fuzzer exited with ${rc}; artifacts: ${found}\n"
                      "reproduce: fuzz/run --repro <target> <artifact>")
endif()
