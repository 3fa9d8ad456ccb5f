"""The filter lab (apps/filter_lab.ipynb, served by Voila): a page a student can be sent a link to.

Two explorers of the course on one page, the kernel explorer (lesson 02) and the
feature-map browser (lesson 05), under a title and a short introduction, with a language
switch that rebuilds the page in English or Romanian. Nothing of the server is shown (no
paths, no commands): where the faces and the model come from is said in plain words.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from utils.i18n import LANGUAGES, get_language, set_language, tr
from utils.images import preprocess_face
from utils.widgets.convolution import kernel_explorer
from utils.widgets.layout import explorer_box, style_sheet
from utils.widgets.model import feature_map_browser

LANGUAGE_NAMES = {"en": "English", "ro": "Română"}


def _intro() -> str:
    return tr(
        "<h1>Filter lab</h1><p>Two tools from the course on one page. <b>Kernel explorer</b>: choose a face and a "
        "3x3 or 5x5 kernel (or type your own weights) and watch the feature map it produces; stride and padding "
        "change its size. <b>What the trained network sees</b>: the same face goes through the emotion network; pick "
        "a layer and a channel to see what that learned filter responds to. Early layers keep the shape of the face; "
        "deeper layers are smaller and more abstract.</p>",
        "<h1>Laboratorul de filtre</h1><p>Două unelte din curs într-o singură pagină. <b>Exploratorul de nuclee</b>: "
        "alegeți o față și un nucleu 3x3 sau 5x5 (sau scrieți propriile ponderi) și priviți harta de trăsături pe care "
        "o produce; pasul și bordarea îi schimbă dimensiunea. <b>Ce vede rețeaua antrenată</b>: aceeași față trece prin "
        "rețeaua pentru emoții; alegeți un strat și un canal ca să vedeți la ce răspunde acel filtru învățat. Primele "
        "straturi păstrează forma feței; straturile mai adânci sunt mai mici și mai abstracte.</p>")


class FilterLab(widgets.VBox):
    """The whole page; ``language`` (ToggleButtons) rebuilds it in the chosen language.

    ``photo_face`` / ``data_face`` / ``synthetic_face`` are 2D grayscale faces (0..255),
    ``data_is_synthetic`` says whether ``data_face`` comes from the offline set, ``trained``
    whether ``model`` is the course's trained model (else an untrained one is explored).
    """

    def __init__(self, model, *, photo_face: np.ndarray, data_face: np.ndarray, synthetic_face: np.ndarray,
                 data_is_synthetic: bool, trained: bool, language: str | None = None):
        self.model, self.trained, self.data_is_synthetic = model, trained, data_is_synthetic
        self.photo_face, self.data_face, self.synthetic_face = photo_face, data_face, synthetic_face
        language = language if language in LANGUAGES else get_language()
        self.language = widgets.ToggleButtons(options=[(LANGUAGE_NAMES[code], code) for code in LANGUAGES], value=language,
                                              style={"button_width": "auto"})
        self.language.observe(lambda change: self.build(), names="value")
        super().__init__([])
        explorer_box(self)
        self.build()

    def build(self) -> None:
        """(Re)build every part of the page in the chosen language."""
        set_language(self.language.value)
        faces = {tr("photo", "fotografie"): self.photo_face,
                 (tr("offline set (synthetic)", "set offline (sintetic)") if self.data_is_synthetic else "FER2013"): self.data_face,
                 tr("synthetic", "sintetică"): self.synthetic_face}
        self.kernels = kernel_explorer(faces, preset="sobel_x")
        self.feature_maps = feature_map_browser(self.model, preprocess_face(self.photo_face))
        if self.trained:
            about_model = tr("The maps below are those of the course's trained emotion network.",
                             "Hărțile de mai jos sunt ale rețelei pentru emoții antrenate în curs.")
        else:
            about_model = tr("The trained model is not installed on this server: these are the maps of an UNTRAINED "
                             "network (random filters), so they show no learned features.",
                             "Modelul antrenat nu este instalat pe acest server: acestea sunt hărțile unei rețele "
                             "NEANTRENATE (filtre aleatoare), deci nu arată trăsături învățate.")
        self.children = [
            style_sheet(), self.language, widgets.HTML(_intro(), layout={"max_width": "calc(100% - 4px)"}),
            widgets.HTML(f"<h2>1. {tr('Kernel explorer', 'Exploratorul de nuclee')}</h2>"), self.kernels,
            widgets.HTML(f"<h2>2. {tr('What the trained network sees', 'Ce vede rețeaua antrenată')}</h2>"
                         f"<p>{about_model}</p>", layout={"max_width": "calc(100% - 4px)"}),
            self.feature_maps,
        ]


def filter_lab(model, **faces_and_flags) -> FilterLab:
    """The filter lab page (see :class:`FilterLab` for the arguments)."""
    return FilterLab(model, **faces_and_flags)
