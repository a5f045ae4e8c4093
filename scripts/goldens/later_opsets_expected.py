"""Expected values for onnx/src/test/java/dev/panamadnn/onnx/OnnxLaterOpsetsTest.java (opsets 18-23): torch 1.13 in float64
where it computes the op (group_norm, mish, gelu, interpolate, grid_sample, conv2d), numpy in float64 elsewhere. Prints one
line per case, "name {values}", as the test holds them. Run with Debian's /usr/bin/python3 (python3-torch)."""
import numpy as np, torch, torch.nn.functional as F
np.set_printoptions(precision=9)
def x_(shape, step=0.25, off=-2.9):
    n=int(np.prod(shape)); return (np.arange(n)*step+off).astype(np.float32).reshape(shape)
def out(name, a):
    a=np.asarray(a, dtype=np.float64).astype(np.float32).ravel()
    print(name, "{" + ", ".join(repr(float(v))+"f" for v in a) + "}")
x=x_((2,3,4)).astype(np.float64)
out("reduceMean_axes1_keep0", x.mean(axis=1))
out("reduceMax_axesm1", x.max(axis=-1, keepdims=True))
out("reduceL2_axes02", np.sqrt((x*x).sum(axis=(0,2))))
out("reduceLogSumExp_all", np.log(np.exp(x).sum()).reshape(1,1,1))
out("reduceSumSquare_axes2_bound", (x*x).sum(axis=2, keepdims=True))
# no axes with noop_with_empty_axes: nothing reduced, the other operations done (the operator text; ONNX's reference
# reduces over axes=()): L1 |x|, L2 sqrt(x*x), SumSquare x*x, LogSum log(x) (of positive inputs)
out("noop_l1", np.abs(x)); out("noop_l2", np.sqrt(x*x)); out("noop_sumsquare", x*x)
out("noop_logsum", np.log(x_((2,3,4), 0.25, 0.1).astype(np.float64)))
# split num_outputs 3 of dim 7
s=x_((2,7)); out("split0", s[:, 0:3]); out("split1", s[:, 3:6]); out("split2", s[:, 6:7])
# pad axes [-1] pads [1,2] value 0.5 on [2,3,4]
xf=x_((2,3,4))
out("pad_axes", np.pad(xf, ((0,0),(0,0),(1,2)), constant_values=0.5))
out("pad_wrap", np.pad(xf, ((0,0),(2,1),(0,0)), mode="wrap"))
# resize axes [2,3] scales 2 linear half_pixel = torch bilinear align_corners False
r=torch.tensor(x_((1,2,3,4)))
out("resize_linear", F.interpolate(r, scale_factor=2, mode="bilinear", align_corners=False).numpy())
out("resize_sizes_nearest", F.interpolate(r, size=(6,2), mode="nearest").numpy())  # asymmetric+floor
# group norm
g=torch.tensor(x_((2,4,3), 0.37, -4.1)).double()
w=torch.tensor([0.5,-1.0,2.0,1.5]).double(); b=torch.tensor([0.1,0.2,-0.3,0.0]).double()
out("groupnorm21", F.group_norm(g, 2, w, b, eps=1e-5).numpy())
gw=np.array([0.5,-2.0]); gb=np.array([0.25,-0.75])
gn=F.group_norm(g, 2, eps=1e-3).numpy().reshape(2,2,6)
out("groupnorm18", (gn*gw[None,:,None]+gb[None,:,None]))
m=torch.tensor(np.array([-100,-20,-3,-1,-0.5,0,0.5,1,3,20,100, np.inf, -np.inf, np.nan],np.float32)).double()
out("mish", F.mish(m).numpy())
out("gelu", F.gelu(m).numpy()); out("gelu_tanh", F.gelu(m, approximate="tanh").numpy())
rx=x_((2,3,4)).astype(np.float64); sc=np.array([1.0,0.5,-2.0,1.5])
out("rms_axis_m1", rx/np.sqrt((rx*rx).mean(axis=-1,keepdims=True)+1e-5)*sc)
sc2=x_((3,4),0.1,0.3).astype(np.float64)
out("rms_axis_1", rx/np.sqrt((rx*rx).mean(axis=(1,2),keepdims=True)+1e-3)*sc2)
# grid sample linear zeros align_corners 0
gx=torch.tensor(x_((1,2,3,4))); grid=torch.tensor(x_((1,2,3,2),0.11,-0.8))
out("gridsample_linear", F.grid_sample(gx, grid, mode="bilinear", padding_mode="zeros", align_corners=False).numpy())
# quantize int8 no zero point
q=x_((2,5), 7.3, -30)
out("quant_int8", np.clip(np.rint(q/0.25), -128, 127))
# conv relu gap at opset 23 (torch)
torch.manual_seed(0)
cx=torch.tensor(x_((1,2,5,5),0.05,-1.0)); cw=torch.tensor(x_((3,2,3,3),0.013,-0.7)); cb=torch.tensor([0.1,-0.2,0.3])
out("conv_relu_gap", F.adaptive_avg_pool2d(F.relu(F.conv2d(cx,cw,cb,padding=1)),1).numpy())

