"""FPGA implementation flows (synthesis and place-and-route with the YoWASP tools) for nmsat's RTL blocks."""
