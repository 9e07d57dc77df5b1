"""Demo source systems: a deterministic generator of messy CRM deliveries plus ground truth (see docs/demo_data.md)."""

from flows.demo.generator import PROFILES, DemoResult, generate_demo

__all__ = ["PROFILES", "DemoResult", "generate_demo"]
