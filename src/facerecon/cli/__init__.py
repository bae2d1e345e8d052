"""The ``facerecon`` command line: the only place that writes files or prints.

Numpy's OpenBLAS threads busy-wait after each multi-threaded matrix product, which slows the
next network call on a 2-core laptop CPU several times over. The reconstruction path makes no
such product any more (docs/models.md, "Threads"), but training, evaluation and the data
tools do, so the command line keeps numpy's BLAS to one thread unless the user says
otherwise; this must happen before numpy is first imported, which ``import facerecon`` does
not do.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
