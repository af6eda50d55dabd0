# SPDX-License-Identifier: MIT
# Source checks from STYLE.md (SPDX lines, header corners, arrows, format).
vs_script_test(lint ${CMAKE_SOURCE_DIR}/tests/lint.sh lint TIMEOUT 120)
