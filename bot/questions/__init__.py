"""Questions in plain words: the store's vocabulary, a deterministic parser, and the answers (issue 13)."""

from bot.questions.answer import Asked, answer_question
from bot.questions.parse import Question, parse
from bot.questions.vocabulary import vocabulary

__all__ = ["Asked", "Question", "answer_question", "parse", "vocabulary"]
