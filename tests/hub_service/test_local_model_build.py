"""The local model's llama.cpp build runs on any x86-64 CPU with AVX2.

llama.cpp tunes itself to the build machine by default (GGML_NATIVE), and pip's wheel
cache hands that binary to other machines, where it dies with SIGILL on the first
completion. ``scripts/setup.sh`` builds it with ``-DGGML_NATIVE=OFF``; this test reads
the flags the installed library was compiled with."""

from __future__ import annotations

import platform
import re

import pytest

llama_cpp = pytest.importorskip("llama_cpp")

# instruction sets that many x86-64 CPUs lack: a portable build enables none of them
NATIVE_ONLY = re.compile(r"\b(AVX512\w*|AVX_VNNI|AMX\w*)\s*=\s*1\b")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="an x86-64 build property")
def test_llama_cpp_is_built_for_a_portable_x86_64_baseline():
    info = llama_cpp.llama_print_system_info().decode()
    assert not NATIVE_ONLY.findall(info), (
        f"llama-cpp-python was built for this machine's CPU ({info.strip()}); rebuild it "
        "with CMAKE_ARGS=-DGGML_NATIVE=OFF (scripts/setup.sh does)"
    )
    assert re.search(r"\bAVX2 = 1\b", info), info  # still fast where AVX2 exists
