"""Protocol-faithful fakes of the model providers, served on loopback for the real SDKs to talk to."""
