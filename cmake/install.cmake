# install.cmake - what `make install` (cmake --install; PREFIX and DESTDIR)
# puts where: logshipd and logship, liblogship (shared, with its soname,
# and static), logship.h, liblogship.pc, the man pages (cmake/man.cmake),
# the systemd unit and sysusers file, and the example config file.
# Included from the top-level CMakeLists.txt after client.cmake.
include(GNUInstallDirs)
include(${CMAKE_SOURCE_DIR}/cmake/man.cmake)

# empty: under the prefix (read again at each configure, so a new
# CMAKE_INSTALL_PREFIX moves them too)
set(LOGSHIP_SYSTEMD_UNITDIR "" CACHE PATH
    "where logshipd.service goes (default PREFIX/lib/systemd/system; the Debian package: /lib/systemd/system)")
set(LOGSHIP_SYSUSERSDIR "" CACHE PATH
    "where the logship user's sysusers.d file goes (default PREFIX/lib/sysusers.d)")
set(unitdir ${LOGSHIP_SYSTEMD_UNITDIR})
if(NOT unitdir)
  set(unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(sysusersdir ${LOGSHIP_SYSUSERSDIR})
if(NOT sysusersdir)
  set(sysusersdir "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")
endif()

foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(LOGSHIP_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(LOGSHIP_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
set(LOGSHIP_FULL_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(LOGSHIP_FULL_SYSCONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR})
configure_file(${CMAKE_SOURCE_DIR}/packaging/liblogship.pc.in
               ${CMAKE_BINARY_DIR}/packaging/liblogship.pc @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/packaging/logshipd.service.in
               ${CMAKE_BINARY_DIR}/packaging/logshipd.service @ONLY)

install(TARGETS logshipd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS logship RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(NOT LOGSHIP_TSAN)
  install(TARGETS logship_client logship_client_static
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(FILES ${CMAKE_SOURCE_DIR}/include/logship.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/packaging/liblogship.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_BINARY_DIR}/packaging/logshipd.service DESTINATION ${unitdir})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/logship.sysusers DESTINATION ${sysusersdir}
        RENAME logship.conf)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/logshipd.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/logship)
install(FILES ${CMAKE_SOURCE_DIR}/examples/hello.c DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${LOGSHIP_MAN_DIR}/logshipd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${LOGSHIP_MAN_DIR}/logship.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${LOGSHIP_MAN_DIR}/liblogship.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
