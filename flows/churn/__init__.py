"""Churn-risk model: trained and scored nightly on the warehouse copy the transform stage is building."""
