"""The array datapath: MAC < N:M mux < PE < skew < systolic array."""
