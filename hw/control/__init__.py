"""Control: the tile engine that runs one tile on the array, and the loop engine that walks a GEMM."""
