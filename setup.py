"""The optional C extension: PCRE2 matching of the privacy recognizers' patterns over a whole column.

Everything else is declared in pyproject.toml. The extension needs a C compiler and Debian's libpcre2-dev
(scripts/system_deps.sh installs it); where either is missing the build skips it and the recognizers match with
Python's re, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "flows.privacy.recognizers._pcre2_spans",
            sources=["flows/privacy/recognizers/_pcre2_spans.c"],
            libraries=["pcre2-16", "pcre2-32"],
            optional=True,
        )
    ]
)
