"""Reference implementations: the one copy of the course's code, imported by the book and the checks.

Each module names the chapter that teaches it. Learners' answers are checked against these
functions; the batch grader makes them unavailable to submitted code.
"""
