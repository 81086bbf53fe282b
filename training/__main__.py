"""``python -m training``: retrain every model version into model_data/."""

from training.train import main

main()
