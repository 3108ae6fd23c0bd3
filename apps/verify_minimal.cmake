# FXIC_MINIMAL_IO: the apps/ part of a build with no libpng (cross-compiled and
# WebAssembly runs of `fxic verify`, see scripts/cross/run.sh). Included by
# apps/CMakeLists.txt instead of its normal targets. Builds:
#   fxic_imageio  image_io.h for binary PPM/PGM only (verify_minimal_io.cpp)
#   fxic          verify, encode, decode, info (verify_main.cpp)

add_library(fxic_imageio STATIC verify_minimal_io.cpp)
target_include_directories(fxic_imageio PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)

# The embedded default model, as in apps/CMakeLists.txt.
if(EXISTS ${PROJECT_SOURCE_DIR}/models/default.fxm)
  set(_default_model ${PROJECT_SOURCE_DIR}/models/default.fxm)
else()
  set(_default_model ${PROJECT_SOURCE_DIR}/models/synthetic-tiny.fxm)
endif()
set(FXIC_DEFAULT_MODEL ${_default_model} CACHE FILEPATH "Model embedded in fxic")
set(_embedded ${CMAKE_CURRENT_BINARY_DIR}/default_model.cpp)
add_custom_command(
  OUTPUT ${_embedded}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${FXIC_DEFAULT_MODEL} -DOUTPUT=${_embedded}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  DEPENDS ${FXIC_DEFAULT_MODEL} ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  COMMENT "Embedding ${FXIC_DEFAULT_MODEL}")

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
