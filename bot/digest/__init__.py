"""The weekly digest: pluggable sections (`sections.py`), participation by stakeholder group and
region (`participation.py`), and composition into one Reply per reader's zone (`compose.py`)."""
