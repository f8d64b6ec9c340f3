// Behavioural model of the Lattice ECP5 MULT18X18D, for simulating `nmsat.hw.datapath.multiplier.Multiplier`
// as the ECP5 flows build it (Yosys ships only a black box of this primitive). Written from Lattice's ECP5 sysDSP
// usage guide (FPGA-TN-02205): an 18 x 18 multiplier whose A and B inputs, pipeline and output can each be
// registered; a register's clock is CLK0 (the only clock modelled) or NONE, its enable one of CE0..CE3, its reset
// one of RST0..RST3 (synchronous, to zero). SIGNEDA / SIGNEDB say whether A / B are two's complement. The C input,
// shift chains, cascades and clock dividers are not modelled (tied off by the Multiplier). Not checked against
// Lattice's own simulation library or silicon: it checks the Multiplier's wiring, not the primitive.
`default_nettype none
module MULT18X18D(
    A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5,
    B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11,
    C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CLK1, CLK2, CLK3, CE0, CE1, CE2,
    CE3, RST0, RST1, RST2, RST3,
    P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22,
    P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";
    input wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CLK1, CLK2, CLK3, CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3;
    output wire P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35;

    wire [3:0] ce = {CE3, CE2, CE1, CE0};
    wire [3:0] rst = {RST3, RST2, RST1, RST0};
    function integer sel(input [8*4-1:0] name);  // "CE2" -> 2, "RST1" -> 1
        sel = name[7:0] - "0";
    endfunction

    initial begin
        if ((REG_INPUTA_CLK != "NONE" && REG_INPUTA_CLK != "CLK0") || (REG_INPUTB_CLK != "NONE" && REG_INPUTB_CLK != "CLK0")
            || (REG_PIPELINE_CLK != "NONE" && REG_PIPELINE_CLK != "CLK0")
            || (REG_OUTPUT_CLK != "NONE" && REG_OUTPUT_CLK != "CLK0")) begin
            $display("MULT18X18D model: only CLK0 or NONE is modelled");
            $finish;
        end
    end

    wire [17:0] a_in = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b_in = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    reg [17:0] a_q = 0, b_q = 0;
    reg [35:0] pipe_q = 0, out_q = 0;
    always @(posedge CLK0) begin
        if (rst[sel(REG_INPUTA_RST)]) a_q <= 0; else if (ce[sel(REG_INPUTA_CE)]) a_q <= a_in;
        if (rst[sel(REG_INPUTB_RST)]) b_q <= 0; else if (ce[sel(REG_INPUTB_CE)]) b_q <= b_in;
    end
    wire [17:0] a = REG_INPUTA_CLK == "NONE" ? a_in : a_q;
    wire [17:0] b = REG_INPUTB_CLK == "NONE" ? b_in : b_q;
    wire signed [18:0] a_ext = {SIGNEDA & a[17], a};
    wire signed [18:0] b_ext = {SIGNEDB & b[17], b};
    wire signed [37:0] product = a_ext * b_ext;
    always @(posedge CLK0) begin
        if (rst[sel(REG_PIPELINE_RST)]) pipe_q <= 0; else if (ce[sel(REG_PIPELINE_CE)]) pipe_q <= product[35:0];
    end
    wire [35:0] piped = REG_PIPELINE_CLK == "NONE" ? product[35:0] : pipe_q;
    always @(posedge CLK0) begin
        if (rst[sel(REG_OUTPUT_RST)]) out_q <= 0; else if (ce[sel(REG_OUTPUT_CE)]) out_q <= piped;
    end
    wire [35:0] p = REG_OUTPUT_CLK == "NONE" ? piped : out_q;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
endmodule
`default_nettype wire
