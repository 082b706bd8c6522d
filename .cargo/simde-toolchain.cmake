# Used by WAMR's FetchContent: take SIMDe from /usr/include (Debian package libsimde-dev).
set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "")
