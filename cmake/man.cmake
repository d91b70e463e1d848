# man.cmake - the man pages logshipd(8), logship(1) and liblogship(3), each
# rendered from its one source in docs/man/ by scripts/man.py; the option
# lists of logshipd(8) and logship(1) come from the built programs' own
# --help, so they are the option tables the programs use. Included from
# cmake/install.cmake, which installs them.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(LOGSHIP_MAN_DIR ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${LOGSHIP_MAN_DIR})
set(man_py ${CMAKE_SOURCE_DIR}/scripts/man.py)

add_custom_command(
  OUTPUT ${LOGSHIP_MAN_DIR}/logshipd.8
  COMMAND ${Python3_EXECUTABLE} ${man_py} ${CMAKE_SOURCE_DIR}/docs/man/logshipd.8.md
          ${LOGSHIP_MAN_DIR}/logshipd.8 ${PROJECT_VERSION}
          --help "logshipd=$<TARGET_FILE:logshipd> --help"
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/logshipd.8.md ${man_py} logshipd
  COMMENT "Man page logshipd(8)" VERBATIM)
add_custom_command(
  OUTPUT ${LOGSHIP_MAN_DIR}/logship.1
  COMMAND ${Python3_EXECUTABLE} ${man_py} ${CMAKE_SOURCE_DIR}/docs/man/logship.1.md
          ${LOGSHIP_MAN_DIR}/logship.1 ${PROJECT_VERSION}
          --help "send=$<TARGET_FILE:logship> send --help"
          --help "query=$<TARGET_FILE:logship> query --help"
          --help "tail=$<TARGET_FILE:logship> tail --help"
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/logship.1.md ${man_py} logship
  COMMENT "Man page logship(1)" VERBATIM)
add_custom_command(
  OUTPUT ${LOGSHIP_MAN_DIR}/liblogship.3
  COMMAND ${Python3_EXECUTABLE} ${man_py} ${CMAKE_SOURCE_DIR}/docs/man/liblogship.3.md
          ${LOGSHIP_MAN_DIR}/liblogship.3 ${PROJECT_VERSION}
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/liblogship.3.md ${man_py}
  COMMENT "Man page liblogship(3)" VERBATIM)
add_custom_target(man ALL DEPENDS ${LOGSHIP_MAN_DIR}/logshipd.8 ${LOGSHIP_MAN_DIR}/logship.1
                                  ${LOGSHIP_MAN_DIR}/liblogship.3)
