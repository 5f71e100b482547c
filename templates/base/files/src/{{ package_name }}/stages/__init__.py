"""Pipeline stages. Each module here declares ORDER, COMMANDS and PIPELINE_STEP.

`python -m <package>` discovers the modules in this folder, so adding a stage is adding a file.
"""
