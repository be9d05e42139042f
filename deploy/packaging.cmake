# Install layout beyond the binaries, and the Debian package:
#   cmake --install BUILD [--prefix /usr/local]     from source
#   cd BUILD && cpack -G DEB                         onewindow_<v>_<arch>.deb
#
#   PREFIX/bin/onewindowd, owctl, ow-adapter-http, ow-adapter-sim
#   PREFIX/share/onewindow/calendars/        working-day calendars
#   PREFIX/share/onewindow/workflows/        example services (definitions,
#                                            manifests, inputs, tests)
#   PREFIX/share/onewindow/grafana/onewindow.json
#   PREFIX/share/onewindow/make-dev-certs.sh
#   PREFIX/share/doc/onewindow/README.md     deploy/README.md
#   PREFIX/lib/systemd/system/onewindowd.service
#   /etc/onewindow/onewindow.yaml            settings (a conffile)
#   /etc/onewindow/workflows/                deployed at start (empty)
#
# The settings live in OW_INSTALL_SYSCONFDIR (default /etc) whatever the
# prefix, as the unit expects; the unit and the settings are rewritten at
# install time to name the prefix's paths when it is not /usr.

# `cmake --install` and `cpack` install what is built and do not build the
# whole tree (tests, benchmarks) first: build the installed targets with
#   cmake --build BUILD --target onewindowd owctl ow-adapter-sim ow-adapter-http
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(OW_INSTALL_SYSCONFDIR "/etc" CACHE PATH
    "Where onewindow/onewindow.yaml is installed")
set(_ow_share "${CMAKE_INSTALL_DATADIR}/onewindow")
set(_ow_doc "${CMAKE_INSTALL_DATADIR}/doc/onewindow")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/calendars/
  DESTINATION ${_ow_share}/calendars)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/workflows/
  DESTINATION ${_ow_share}/workflows)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/grafana/onewindow.json
  DESTINATION ${_ow_share}/grafana)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/make-dev-certs.sh
  DESTINATION ${_ow_share})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/README.md
  DESTINATION ${_ow_doc})
install(DIRECTORY DESTINATION ${OW_INSTALL_SYSCONFDIR}/onewindow/workflows)

# The unit and the settings name /usr/bin, /usr/share/onewindow and
# /etc/onewindow; under another prefix (or sysconfdir) they are rewritten.
install(CODE "
  set(_src \"${PROJECT_SOURCE_DIR}/deploy\")
  set(_tmp \"${CMAKE_CURRENT_BINARY_DIR}/ow-install\")
  set(_etc \"${OW_INSTALL_SYSCONFDIR}\")
  file(MAKE_DIRECTORY \"\${_tmp}\")
  foreach(_f onewindowd.service onewindow.yaml)
    file(READ \"\${_src}/\${_f}\" _text)
    string(REPLACE \"/usr/bin/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" _text \"\${_text}\")
    string(REPLACE \"/usr/share/onewindow\" \"\${CMAKE_INSTALL_PREFIX}/${_ow_share}\" _text \"\${_text}\")
    string(REPLACE \"/usr/share/doc/onewindow\" \"\${CMAKE_INSTALL_PREFIX}/${_ow_doc}\" _text \"\${_text}\")
    string(REPLACE \"/etc/onewindow\" \"\${_etc}/onewindow\" _text \"\${_text}\")
    file(WRITE \"\${_tmp}/\${_f}\" \"\${_text}\")
  endforeach()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\"
    TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES \"\${_tmp}/onewindowd.service\")
  # Settings someone edited are kept: the new file lands beside them.
  if(EXISTS \"\$ENV{DESTDIR}\${_etc}/onewindow/onewindow.yaml\")
    file(RENAME \"\${_tmp}/onewindow.yaml\" \"\${_tmp}/onewindow.yaml.new\")
    message(STATUS \"Kept \${_etc}/onewindow/onewindow.yaml; new settings file: onewindow.yaml.new\")
    set(_yaml \"\${_tmp}/onewindow.yaml.new\")
  else()
    set(_yaml \"\${_tmp}/onewindow.yaml\")
  endif()
  file(INSTALL DESTINATION \"\${_etc}/onewindow\"
    TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
    FILES \"\${_yaml}\")
")

# ---- the Debian package ----
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "onewindow")
set(CPACK_PACKAGE_VENDOR "OneWindow")
set(CPACK_PACKAGE_CONTACT "OneWindow maintainers <onewindow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "OneWindow case-routing workflow engine (onewindowd, owctl, adapters)")
set(CPACK_PACKAGE_DESCRIPTION
    "A case-routing workflow engine for a one-stop government service centre:
Amazon States Language state machines, gRPC API, embedded RocksDB store.
Ships the server (onewindowd, systemd unit, settings in /etc/onewindow),
the owctl command line, the HTTP bridge for departments' systems and a
simulated department, working-day calendars and example services.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# The binaries' shared libraries on Debian 12 (objdump -p NEEDED, dpkg -S,
# versions as dpkg-shlibdeps gives them); deploy/package-test.sh checks the
# list against the installed binaries. passwd: useradd in postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libabsl20220623 (>= 0~20220623.0-1), libc6 (>= 2.34), \
libcpp-httplib0.11 (>= 0.11.4+ds), libfmt9 (>= 9.1.0+ds1), \
libgcc-s1 (>= 3.0), libgrpc++1.51 (>= 1.51.1), libgrpc29 (>= 1.51.1), \
libjemalloc2 (>= 5.3.0), \
libpcre2-8-0 (>= 10.32), libprotobuf32 (>= 3.21.12), \
librocksdb7.8 (>= 7.8.3), libspdlog1.10 (>= 1:1.10.0), libssl3 (>= 3.0.0), \
libstdc++6 (>= 12), libyaml-cpp0.7 (>= 0.7.0), passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssl")
# The workflow drawings of the console and `owctl workflow render` call `dot`.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "graphviz")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/conffiles;${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/prerm;${PROJECT_SOURCE_DIR}/deploy/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
