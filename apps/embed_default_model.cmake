# Included by apps/CMakeLists.txt and apps/verify_minimal.cmake: sets
# _embedded, a generated source holding the default model's bytes and its
# model id, hashed at build time (apps/embed_file.cmake).
# The embedded default model: models/default.fxm when a trained model has been
# exported, otherwise the synthetic test model.
# FXIC_DEFAULT_MODEL overrides the choice (empty: automatic, re-checked at
# every configure).
set(FXIC_DEFAULT_MODEL "" CACHE FILEPATH "Model embedded in fxic (empty: automatic)")
if(FXIC_DEFAULT_MODEL)
  set(_default_model ${FXIC_DEFAULT_MODEL})
elseif(EXISTS ${PROJECT_SOURCE_DIR}/models/default.fxm)
  set(_default_model ${PROJECT_SOURCE_DIR}/models/default.fxm)
else()
  set(_default_model ${PROJECT_SOURCE_DIR}/models/synthetic-tiny.fxm)
endif()
set(_embedded ${CMAKE_CURRENT_BINARY_DIR}/default_model.cpp)
add_custom_command(
  OUTPUT ${_embedded}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${_default_model} -DOUTPUT=${_embedded}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  DEPENDS ${_default_model} ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  COMMENT "Embedding ${_default_model}")
