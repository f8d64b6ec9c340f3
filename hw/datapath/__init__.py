"""The array datapath: MAC < N:M mux < PE < skew < systolic array, and the standalone bf16 MAC (`fp_mac`)."""
