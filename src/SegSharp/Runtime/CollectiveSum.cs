using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// A sum over all processes that autograd can differentiate: the forward pass all-reduces the tensor, the backward pass
/// all-reduces the incoming gradient. When every process computes the same function f of the summed value S (a loss on
/// the whole batch's sums, batch-norm statistics), each receives ∂f/∂S summed over the N processes, so after gradient
/// averaging (÷ N) the update is exactly that of one process computing f on the whole batch.
/// </summary>
public static class CollectiveSum
{
    /// <summary>The element-wise sum of <paramref name="local"/> over every process (float32; every rank must call it).</summary>
    public static Tensor Apply(Tensor local, ICollective collective) => Function.Apply(local, collective);

    private sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => "SegSharpAllReduceSum";

        public static Tensor Apply(Tensor input, ICollective collective) => apply(input, collective);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var collective = (ICollective)vars[1];
            ctx.save_data("collective", collective);
            var result = ((Tensor)vars[0]).contiguous().clone();
            collective.AllReduceSum(result);
            return result;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var result = grad_output.contiguous().clone();
            ((ICollective)ctx.get_data("collective")).AllReduceSum(result);
            // One gradient per argument of apply: the tensor's, and none for the collective.
            return new List<Tensor> { result, null! };
        }
    }
}
