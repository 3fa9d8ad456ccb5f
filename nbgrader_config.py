# The course's nbgrader configuration: the one place that says how the lessons are graded.
# nbgrader reads it when run from the repository root (`.venv/bin/nbgrader ...`), and
# tools/editions.py and tools/grading.py load it too. See docs/instructor_guide.md.
#
# Course directory: build/nbgrader/ (not committed; FACEEXPR_COURSE_DIR overrides it):
#   source/<lesson>/<lesson>.ipynb      copied from lessons/ by `tools/grading.py release`
#   release/<lesson>/<lesson>.ipynb     the student editions (nbgrader generate_assignment)
#   submitted/<student>/<lesson>/       what students handed in (nbgrader collect, or copied)
#   autograded/, feedback/, gradebook.db
# One assignment per lesson, named after it (01_images_bgr_rgb, ...), holding the one notebook
# of the same name; the points are those of the graded cells' nbgrader metadata.
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (defined by the loader)

_repo = Path(__file__).resolve().parent
_course = Path(os.environ.get("FACEEXPR_COURSE_DIR", _repo / "build" / "nbgrader")).resolve()

c.CourseDirectory.course_id = "faceexpr"
c.CourseDirectory.root = str(_course)
c.CourseDirectory.db_url = f"sqlite:///{_course / 'gradebook.db'}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

# Autograding runs each lesson top to bottom on the instructor's (or the hub's) CPU. Lesson 04
# trains a small network: nbgrader's default of 30 s per cell is far too short for a laptop.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# A deleted test cell is put back (with a note) and run, like an edited one: it cannot lose or
# win points by its absence. `tools/grading.py check LESSON` lists who edited or deleted one.
c.OverwriteCells.add_missing_cells = True

# Feedback renders the autograded notebook, in which the hidden tests are back: remove them
# again (and the traceback lines that quote them), so feedback can be sent to students.
if str(_repo) not in sys.path:
    sys.path.insert(0, str(_repo))
from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,  # noqa: E402
    CSSHTMLHeaderPreprocessor,  # noqa: E402
)
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,  # noqa: E402
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from tools.nbgrader_preprocessors import ExecuteWithoutDemos, HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Autograding skips the lessons' demonstrations (cells tagged `autograde-skip` by
# `python -m tools.demo_cells --write`: no graded cell needs them), so a submission takes
# seconds; nbgrader's own list with its Execute replaced, in nbgrader 0.9's order.
c.Autograde.autograde_preprocessors = [ExecuteWithoutDemos, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]

# JupyterHub with nbgrader's exchange (see docs/instructor_guide.md): uncomment on the hub.
# c.Exchange.root = "/srv/nbgrader/exchange"
# c.Exchange.path_includes_course = True
