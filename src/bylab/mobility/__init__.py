"""Mobility simulation with Eclipse SUMO: networks, demand, runs and calibration."""
