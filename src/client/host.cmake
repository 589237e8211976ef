# sluice-client's settings and its host networking (config.c, hostnet.c), a
# library of their own until src/client/CMakeLists.txt takes them in.
add_library(sluice_client_host STATIC ${CMAKE_CURRENT_LIST_DIR}/config.c
            ${CMAKE_CURRENT_LIST_DIR}/hostnet.c)
target_link_libraries(sluice_client_host PUBLIC sluice_ctl sluice_net sluice_lib PkgConfig::MNL)
