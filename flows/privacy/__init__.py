"""De-identification of validated rows by policy: mainland-China recognizers, operators, keys, Bloom encodings.

Importing this package makes tldextract (pulled in by Presidio) unable to reach the network: the pipeline must
never download anything at run time, and none of our recognizers needs the public suffix list.
"""

from __future__ import annotations

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
