#!/bin/bash -eu
# ClusterFuzzLite calls $SRC/build.sh with CC, CFLAGS, LIB_FUZZING_ENGINE,
# OUT, SANITIZER and FUZZING_ENGINE set; the real script is the project's.
exec "$SRC/postern/fuzz/build.sh"
