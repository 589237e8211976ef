# sluice-client's status socket (client/status.h), a library of its own until it
# joins src/client/CMakeLists.txt.
add_library(sluice_client_status STATIC ${CMAKE_CURRENT_LIST_DIR}/status.c)
target_link_libraries(sluice_client_status PUBLIC sluice_lib PkgConfig::JANSSON)
