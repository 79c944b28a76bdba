"""Quizzes: question banks, attempts, grading and the credit of a pass."""
