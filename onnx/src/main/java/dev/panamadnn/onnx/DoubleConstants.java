package dev.panamadnn.onnx;

import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * DOUBLE constants that only a Cast reads, converted when importing: torch 1.13 at opsets 7 and 8 writes scalars and
 * index constants as DOUBLE {@code Constant}s followed by a {@code Cast} (to INT64 for a Gather's index, to FLOAT for a
 * scale), and our IR has no DOUBLE. Each such Cast becomes a {@code Constant} of its target type (FLOAT, FLOAT16 by way
 * of FLOAT, INT64, INT32, BOOL) holding the values as ONNX's Cast converts them from double (integers truncated toward
 * zero, BOOL as {@code != 0}); a DOUBLE constant or initializer read by anything else is still refused, by name.
 */
final class DoubleConstants {
    private DoubleConstants() {}

    /** {@code nodes} with every Cast of a DOUBLE Constant or initializer replaced by a Constant of its target type. */
    static List<NodeProto> fold(List<NodeProto> nodes, GraphProto g) {
        Map<String, TensorProto> doubles = new HashMap<>();   // DOUBLE constants by output name (node or initializer)
        for (TensorProto t : g.getInitializerList()) if (t.getDataType() == TensorProto.DataType.DOUBLE_VALUE) doubles.put(t.getName(), t);
        for (NodeProto n : nodes) {
            if (!n.getOpType().equals("Constant") || !n.getDomain().isEmpty() || n.getOutputCount() != 1) continue;
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getName().equals("value") && a.hasT() && a.getT().getDataType() == TensorProto.DataType.DOUBLE_VALUE) doubles.put(n.getOutput(0), a.getT());
            }
        }
        if (doubles.isEmpty()) return nodes;
        Map<String, Integer> readers = new HashMap<>(), castReaders = new HashMap<>();
        for (NodeProto n : nodes) {
            for (String in : n.getInputList()) {
                if (!doubles.containsKey(in)) continue;
                readers.merge(in, 1, Integer::sum);
                if (n.getOpType().equals("Cast") && n.getDomain().isEmpty()) castReaders.merge(in, 1, Integer::sum);
            }
        }
        for (var o : g.getOutputList()) readers.merge(o.getName(), 1, Integer::sum);
        List<NodeProto> out = new ArrayList<>(nodes.size());
        for (NodeProto n : nodes) {
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1 && doubles.containsKey(n.getOutput(0))
                    && readers.getOrDefault(n.getOutput(0), 0) > 0 && readers.get(n.getOutput(0)).equals(castReaders.get(n.getOutput(0)))) {
                continue;   // read only by Casts, each replaced below
            }
            TensorProto converted = n.getOpType().equals("Cast") && n.getDomain().isEmpty() && n.getInputCount() == 1
                    && readers.get(n.getInput(0)) != null && readers.get(n.getInput(0)).equals(castReaders.get(n.getInput(0)))
                    ? convert(doubles.get(n.getInput(0)), to(n)) : null;
            if (converted == null) {
                out.add(n);
                continue;
            }
            out.add(NodeProto.newBuilder().setOpType("Constant").setName(n.getName()).addOutput(n.getOutput(0))
                    .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR).setT(converted)).build());
        }
        // an initializer read only by Casts is then read by nothing and left unconverted (Importer converts what is read)
        return out;
    }

    private static int to(NodeProto cast) {
        for (AttributeProto a : cast.getAttributeList()) if (a.getName().equals("to")) return (int) a.getI();
        return -1;
    }

    /** {@code t}'s values (DOUBLE, held in the file) as element type {@code to}; null where that is not one we convert to. */
    static TensorProto convert(TensorProto t, int to) {
        if (t == null || t.hasDataLocation() && t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) return null;
        double[] v;
        if (t.getRawData().isEmpty()) {
            v = new double[t.getDoubleDataCount()];
            for (int i = 0; i < v.length; i++) v[i] = t.getDoubleData(i);
        } else {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (raw.remaining() % 8 != 0) return null;
            v = new double[raw.remaining() / 8];
            for (int i = 0; i < v.length; i++) v[i] = raw.getDouble();
        }
        long count = 1;
        for (long d : t.getDimsList()) count *= d;
        if (count != v.length) return null;   // malformed: left for the usual refusal
        TensorProto.Builder b = TensorProto.newBuilder().setName(t.getName()).addAllDims(t.getDimsList());
        switch (to) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                b.setDataType(to);
                for (double d : v) b.addFloatData((float) d);
            }
            case TensorProto.DataType.INT64_VALUE -> {
                b.setDataType(to);
                for (double d : v) b.addInt64Data((long) d);
            }
            case TensorProto.DataType.INT32_VALUE -> {
                b.setDataType(to);
                for (double d : v) b.addInt32Data((int) (long) d);
            }
            case TensorProto.DataType.BOOL_VALUE -> {
                b.setDataType(to);
                for (double d : v) b.addInt32Data(d != 0 ? 1 : 0);
            }
            default -> {
                return null;
            }
        }
        return b.build();
    }
}
