# FXIC_MINIMAL_IO: the apps/ part of a build with no libpng (cross-compiled and
# WebAssembly runs of `fxic verify`, see scripts/cross/run.sh). Included by
# apps/CMakeLists.txt instead of its normal targets. Builds:
#   fxic_imageio  image_io.h for binary PPM/PGM only (verify_minimal_io.cpp)
#   fxic          verify, encode, decode, info (verify_main.cpp)

add_library(fxic_imageio STATIC verify_minimal_io.cpp)
target_include_directories(fxic_imageio PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)

include(${CMAKE_CURRENT_SOURCE_DIR}/embed_default_model.cmake)

add_executable(fxic
  verify_main.cpp
  cli.cpp
  cmd_decode.cpp
  cmd_encode.cpp
  cmd_info.cpp
  ${FXIC_VERIFY_SOURCES}
  ${_embedded})
target_link_libraries(fxic PRIVATE fxic_imageio fxic_codec_enc fxic_codec_dec)
target_compile_definitions(fxic PRIVATE FXIC_VERSION="${PROJECT_VERSION}"
                                        FXIC_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
if(OpenMP_CXX_FOUND)
  target_link_libraries(fxic PRIVATE OpenMP::OpenMP_CXX)
endif()
