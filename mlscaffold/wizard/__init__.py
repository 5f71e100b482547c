"""The wizard: questions as data, answer sources, the interview (the asker is a parameter), advice."""
