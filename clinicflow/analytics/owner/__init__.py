"""The owner's view (issue #17): daily facts (``facts``), the figures read from them (``selectors``), the
owner home's tiles and lifecycle funnel (``home``) and the periodic job that keeps facts current
(``jobs``). One definition per figure: see docs of each function and ``docs/metrics.md``."""
