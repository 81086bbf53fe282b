"""Locust scenarios for the house-price predictor: users, load shapes, SLO gate and report."""
