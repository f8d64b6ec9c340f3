"""The tool flows around the RTL: Verilog emission and lint, cocotb runs, Yosys area, ECP5 place-and-route."""
