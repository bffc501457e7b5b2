// The one source of ratel_test_pch, the target whose precompiled <gtest/gtest.h> every test
// executable reuses (tests/CMakeLists.txt). It is never run.
int main() { return 0; }
