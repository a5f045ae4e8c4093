package dev.panamadnn.onnx;

import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.FunctionProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's local functions ({@code ModelProto.functions}, IR 8 on) inlined: each node whose domain and op type name a
 * function becomes the function's body, with the body's inputs and outputs wired to the call's, its other values renamed
 * per call ({@code <caller>#<k>/<name>}), and each attribute that refers to one of the call's ({@code ref_attr_name})
 * taken from the call, else from the function's default ({@code attribute_proto}, field 11 of ONNX 1.13's
 * FunctionProto, read from the unknown fields of our ONNX 1.12 classes), else left out, as ONNX's inliner does. Calls
 * inside a body are inlined in turn. torch's {@code export_modules_as_functions}, onnxscript and the dynamo exporter
 * without its optimizer write such models. A body must use the model's opset of the default domain and hold no
 * subgraph (If, Loop); a problem is reported, naming the call, as every other refusal at load.
 */
final class Functions {
    private Functions() {}

    /** Inlining deeper than this is taken for a recursion (a function calling itself). */
    private static final int MAX_DEPTH = 64;

    /** At most this many nodes after inlining: a function calling another twice per level doubles the count at each. */
    static final int MAX_NODES = 500_000;

    /** {@code nodes} with every call of a local function of {@code model} replaced by its body; problems added to {@code problems}. */
    static List<NodeProto> inline(ModelProto model, List<NodeProto> nodes, long opset, List<String> problems) {
        if (model.getFunctionsCount() == 0) return nodes;
        Map<String, FunctionProto> functions = new LinkedHashMap<>();
        for (FunctionProto f : model.getFunctionsList()) {
            if (functions.put(key(f.getDomain(), f.getName()), f) != null) {
                problems.add("local function '" + f.getName() + "' of domain '" + f.getDomain() + "' is defined twice");
            }
        }
        List<NodeProto> out = new ArrayList<>();
        int[] calls = {0};
        for (NodeProto n : nodes) expand(n, functions, opset, problems, out, calls, 0);
        return out;
    }

    private static String key(String domain, String name) {
        return domain + "\0" + name;
    }

    private static void expand(NodeProto call, Map<String, FunctionProto> functions, long opset, List<String> problems, List<NodeProto> out,
                               int[] calls, int depth) {
        FunctionProto f = functions.get(key(call.getDomain(), call.getOpType()));
        if (f == null) {
            if (out.size() == MAX_NODES) problems.add("inlining the local functions gives more than " + MAX_NODES + " nodes");
            if (out.size() <= MAX_NODES) out.add(call);
            return;
        }
        if (out.size() > MAX_NODES || !problems.isEmpty() && depth > 0) return;   // refused already: stop expanding
        String where = "node " + (call.getName().isEmpty() ? "(unnamed)" : call.getName()) + " (call of local function '" + f.getName()
                + "', domain '" + f.getDomain() + "')";
        if (depth >= MAX_DEPTH) {
            problems.add(where + ": local functions nested deeper than " + MAX_DEPTH + " (a recursion?)");
            return;
        }
        for (OperatorSetIdProto o : f.getOpsetImportList()) {
            boolean standard = o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx");
            if (standard && o.getVersion() != opset) {
                problems.add(where + ": its body imports opset " + o.getVersion() + " of the default domain, the model " + opset);
                return;
            }
        }
        if (call.getInputCount() > f.getInputCount() || call.getOutputCount() > f.getOutputCount()) {
            problems.add(where + ": " + call.getInputCount() + " inputs and " + call.getOutputCount() + " outputs given, the function takes "
                    + f.getInputCount() + " and gives " + f.getOutputCount());
            return;
        }
        String prefix = (call.getName().isEmpty() ? f.getName() : call.getName()) + "#" + calls[0]++ + "/";
        Map<String, String> rename = new HashMap<>();
        for (int i = 0; i < f.getInputCount(); i++) rename.put(f.getInput(i), i < call.getInputCount() ? call.getInput(i) : "");
        List<NodeProto> passthrough = new ArrayList<>();   // an output that is one of the inputs: an Identity of the call's input
        java.util.Set<String> formalInputs = new java.util.HashSet<>(f.getInputList());
        for (int i = 0; i < f.getOutputCount(); i++) {
            boolean given = i < call.getOutputCount() && !call.getOutput(i).isEmpty();
            String to = given ? call.getOutput(i) : prefix + f.getOutput(i);
            if (formalInputs.contains(f.getOutput(i))) {
                passthrough.add(NodeProto.newBuilder().setName(prefix + "passthrough" + i).setOpType("Identity")
                        .addInput(rename.get(f.getOutput(i))).addOutput(to).build());
            } else {
                rename.put(f.getOutput(i), to);
            }
        }
        Map<String, AttributeProto> values = defaults(f, where, problems);
        for (AttributeProto a : call.getAttributeList()) values.put(a.getName(), a);
        for (NodeProto b : f.getNodeList()) {
            NodeProto.Builder n = b.toBuilder().clearInput().clearOutput().clearAttribute().setName(prefix + b.getName());
            for (String in : b.getInputList()) {
                String to = in.isEmpty() ? "" : rename.get(in);
                if (to == null) {
                    problems.add(where + ": body node " + b.getName() + " (" + b.getOpType() + ") reads '" + in + "', which the function does not define");
                    return;
                }
                n.addInput(to);
            }
            for (String o : b.getOutputList()) n.addOutput(o.isEmpty() ? "" : rename.computeIfAbsent(o, k -> prefix + k));
            for (AttributeProto a : b.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH || a.getType() == AttributeProto.AttributeType.GRAPHS) {
                    problems.add(where + ": body node " + b.getName() + " (" + b.getOpType() + ") holds a subgraph, which inlining does not rename");
                    return;
                }
                if (a.getRefAttrName().isEmpty()) {
                    n.addAttribute(a);
                } else {
                    AttributeProto v = values.get(a.getRefAttrName());
                    if (v != null) n.addAttribute(v.toBuilder().setName(a.getName()).clearRefAttrName().build());   // else absent
                }
            }
            expand(n.build(), functions, opset, problems, out, calls, depth + 1);
        }
        for (NodeProto p : passthrough) expand(p, functions, opset, problems, out, calls, depth + 1);
    }

    /** The function's attribute defaults: ONNX 1.13's {@code repeated AttributeProto attribute_proto = 11}, an unknown field to our classes. */
    private static Map<String, AttributeProto> defaults(FunctionProto f, String where, List<String> problems) {
        Map<String, AttributeProto> d = new HashMap<>();
        var field = f.getUnknownFields().getField(11);
        if (field == null) return d;
        for (com.google.protobuf.ByteString bytes : field.getLengthDelimitedList()) {
            try {
                AttributeProto a = AttributeProto.parseFrom(bytes);
                d.put(a.getName(), a);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                problems.add(where + ": an attribute default of the function cannot be read (" + e.getMessage() + ")");
            }
        }
        return d;
    }
}
