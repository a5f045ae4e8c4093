package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for oneDNN's recurrent family (forward inference), one layer (L = 1) per
 * primitive, and the plain formats their arguments use: activations {@code tnc} ([T, N, C]),
 * states {@code ldnc} ([L, D, N, C]), weights {@code ldigo} ([L, D, I, G, O]), bias {@code ldgo},
 * projection {@code ldio}. Their execution arguments ({@code SRC_ITER}, ...) are in {@link Args}.
 */
public final class RnnOps {
    private RnnOps() {}

    public static int tnc() {
        return dnnl_tnc();
    }

    public static int ldnc() {
        return dnnl_ldnc();
    }

    public static int ldigo() {
        return dnnl_ldigo();
    }

    public static int ldgo() {
        return dnnl_ldgo();
    }

    public static int ldio() {
        return dnnl_ldio();
    }

    public static int ntc() {
        return dnnl_ntc();
    }

    /** Which way a layer runs: ONNX's forward, reverse, bidirectional (both, outputs concatenated: PyTorch's layout). */
    public enum Direction {
        FORWARD, REVERSE, BIDIRECTIONAL;

        int code() {
            return switch (this) {
                case FORWARD -> dnnl_unidirectional_left2right();
                case REVERSE -> dnnl_unidirectional_right2left();
                case BIDIRECTIONAL -> dnnl_bidirectional_concat();
            };
        }
    }

    /**
     * A vanilla LSTM layer (gates i, f, c~, o), with the projection {@code h = W_proj (o * tanh(c))}
     * when {@code projection} is not null (no peephole).
     */
    public static PrimitiveDescriptor lstm(boolean bidirectional, MemoryDescriptor srcLayer, MemoryDescriptor srcIter,
                                           MemoryDescriptor srcIterC, MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter,
                                           MemoryDescriptor projection, MemoryDescriptor bias, MemoryDescriptor dstLayer,
                                           MemoryDescriptor dstIter, MemoryDescriptor dstIterC, PrimitiveAttributes attributes,
                                           String description) {
        return lstm(bidirectional ? Direction.BIDIRECTIONAL : Direction.FORWARD, srcLayer, srcIter, srcIterC, weightsLayer,
                weightsIter, projection, bias, dstLayer, dstIter, dstIterC, attributes, description);
    }

    /** The LSTM layer above in any direction. */
    public static PrimitiveDescriptor lstm(Direction direction, MemoryDescriptor srcLayer, MemoryDescriptor srcIter,
                                           MemoryDescriptor srcIterC, MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter,
                                           MemoryDescriptor projection, MemoryDescriptor bias, MemoryDescriptor dstLayer,
                                           MemoryDescriptor dstIter, MemoryDescriptor dstIterC, PrimitiveAttributes attributes,
                                           String description) {
        return lstm(direction, srcLayer, srcIter, srcIterC, weightsLayer, weightsIter, null, projection, bias, dstLayer, dstIter, dstIterC,
                attributes, description);
    }

    /**
     * The LSTM layer above with peephole weights ({@code ldgo} {@code [L, D, 3, C]}, gates i, f, o: oneDNN adds
     * {@code P_i * c_{t-1}} to the input gate, {@code P_f * c_{t-1}} to the forget gate and {@code P_o * c_t} to the
     * output gate); {@code peephole} null for none.
     */
    public static PrimitiveDescriptor lstm(Direction direction, MemoryDescriptor srcLayer, MemoryDescriptor srcIter,
                                           MemoryDescriptor srcIterC, MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter,
                                           MemoryDescriptor peephole, MemoryDescriptor projection, MemoryDescriptor bias,
                                           MemoryDescriptor dstLayer, MemoryDescriptor dstIter, MemoryDescriptor dstIterC,
                                           PrimitiveAttributes attributes, String description) {
        MemorySegment proj = projection == null ? MemorySegment.NULL : projection.handle();
        MemorySegment peep = peephole == null ? MemorySegment.NULL : peephole.handle();
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_lstm_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    direction.code(), srcLayer.handle(), srcIter.handle(), srcIterC.handle(), weightsLayer.handle(),
                    weightsIter.handle(), peep, proj, bias.handle(), dstLayer.handle(), dstIter.handle(),
                    dstIterC.handle(), 0, attr),
                    "dnnl_lstm_forward_primitive_desc_create", description);
        }
    }

    /**
     * A linear-before-reset GRU layer (gates u, r, o; the bias has a fourth row, the recurrent
     * bias of o, applied before the reset gate multiplies it: PyTorch's GRU).
     */
    public static PrimitiveDescriptor lbrGru(boolean bidirectional, MemoryDescriptor srcLayer, MemoryDescriptor srcIter,
                                             MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter, MemoryDescriptor bias,
                                             MemoryDescriptor dstLayer, MemoryDescriptor dstIter, PrimitiveAttributes attributes,
                                             String description) {
        return gru(true, bidirectional ? Direction.BIDIRECTIONAL : Direction.FORWARD, srcLayer, srcIter, weightsLayer, weightsIter, bias,
                dstLayer, dstIter, attributes, description);
    }

    /**
     * A GRU layer in any direction: linear-before-reset ({@code lbr}, bias of four rows, see
     * {@link #lbrGru}) or oneDNN's plain GRU (three rows; the reset gate multiplies h before the
     * recurrent weights: ONNX's {@code linear_before_reset = 0}).
     */
    public static PrimitiveDescriptor gru(boolean lbr, Direction direction, MemoryDescriptor srcLayer, MemoryDescriptor srcIter,
                                          MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter, MemoryDescriptor bias,
                                          MemoryDescriptor dstLayer, MemoryDescriptor dstIter, PrimitiveAttributes attributes,
                                          String description) {
        if (!lbr) {
            try (NativeHandle.Out pointer = new NativeHandle.Out()) {
                MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
                return PrimitiveDescriptor.created(pointer, dnnl_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        direction.code(), srcLayer.handle(), srcIter.handle(), weightsLayer.handle(), weightsIter.handle(),
                        bias.handle(), dstLayer.handle(), dstIter.handle(), 0, attr),
                        "dnnl_gru_forward_primitive_desc_create", description);
            }
        }
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_lbr_gru_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    direction.code(), srcLayer.handle(), srcIter.handle(), weightsLayer.handle(), weightsIter.handle(),
                    bias.handle(), dstLayer.handle(), dstIter.handle(), 0, attr),
                    "dnnl_lbr_gru_forward_primitive_desc_create", description);
        }
    }

    /** A vanilla RNN cell's activation {@code f} in {@code h_t = f(W x_t + R h_{t-1} + b)} (ONNX's Tanh, Relu, Sigmoid). */
    public enum Activation {
        TANH, RELU, SIGMOID;

        int code() {
            return switch (this) {
                case TANH -> dnnl_eltwise_tanh();
                case RELU -> dnnl_eltwise_relu();
                case SIGMOID -> dnnl_eltwise_logistic();
            };
        }
    }

    /**
     * A vanilla RNN layer in any direction (one gate; the bias one row, {@code Wb + Rb}); Relu with alpha 0 (no
     * negative slope), as ONNX's Relu.
     */
    public static PrimitiveDescriptor vanilla(Activation activation, Direction direction, MemoryDescriptor srcLayer,
                                              MemoryDescriptor srcIter, MemoryDescriptor weightsLayer, MemoryDescriptor weightsIter,
                                              MemoryDescriptor bias, MemoryDescriptor dstLayer, MemoryDescriptor dstIter,
                                              PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_vanilla_rnn_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    activation.code(), direction.code(), srcLayer.handle(), srcIter.handle(), weightsLayer.handle(),
                    weightsIter.handle(), bias.handle(), dstLayer.handle(), dstIter.handle(), 0, 0f, 0f, attr),
                    "dnnl_vanilla_rnn_forward_primitive_desc_create", description);
        }
    }
}
