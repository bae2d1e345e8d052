"""The ``facerecon`` command line: the only place that writes files or prints.

Numpy's OpenBLAS threads gain nothing on the small matrix products of the geometry (3-column
point sets), but their busy-waiting slows the next network call on a 2-core laptop CPU by
2-3x (benchmarks/pipeline_speed.py: per-face step 16 ms with them, 5.6 ms without). The
command line therefore keeps numpy's BLAS to one thread unless the user says otherwise; this
must happen before numpy is first imported, which ``import facerecon`` does not do.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
