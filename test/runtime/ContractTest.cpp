//===- ContractTest.cpp - The runtime's names are the contract's ----------===//
//
// Generated code calls the runtime's kernels and kiln_release_weight by the
// names of runtime/Contract.h, but the runtime defines them as C functions,
// whose identifiers cannot be spelled from those constants. This test looks
// each contract name up in the executable's symbol table (it is linked with
// exported symbols) and checks that it is the function the runtime declares.
//
//===----------------------------------------------------------------------===//

#include "runtime/Contract.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Norm.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <string>

extern "C" void kiln_release_weight(uintptr_t data, int64_t bytes);

namespace {

namespace contract = kiln::contract;

/// The address `name` resolves to in this process, or null.
void *lookUp(const std::string &name) {
  return dlsym(RTLD_DEFAULT, name.c_str());
}

template <typename F> void *address(F *function) {
  return reinterpret_cast<void *>(function);
}

TEST(ContractTest, KernelsHaveTheContractNames) {
  const struct {
    const char *name;
    void *function;
  } kernels[] = {
      {contract::kMatmulKernel, address(&_mlir_ciface_kiln_matmul_f32)},
      {contract::kBatchMatmulKernel,
       address(&_mlir_ciface_kiln_batch_matmul_f32)},
      {contract::kMatmulPanelsKernel,
       address(&_mlir_ciface_kiln_matmul_panels_f32)},
      {contract::kPackPanelsKernel,
       address(&_mlir_ciface_kiln_pack_panels_f32)},
      {contract::kLinearPanelsKernel,
       address(&_mlir_ciface_kiln_linear_panels_f32)},
      {contract::kLayerNormKernel, address(&_mlir_ciface_kiln_layer_norm_f32)},
      {contract::kRmsNormKernel, address(&_mlir_ciface_kiln_rms_norm_f32)},
      {contract::kAttentionKernel, address(&_mlir_ciface_kiln_attention_f32)},
      {contract::kAttentionLengthsKernel,
       address(&_mlir_ciface_kiln_attention_lengths_f32)},
      {contract::kAttentionBiasKernel,
       address(&_mlir_ciface_kiln_attention_bias_f32)},
      {contract::kAttentionBiasLengthsKernel,
       address(&_mlir_ciface_kiln_attention_bias_lengths_f32)},
  };
  for (const auto &kernel : kernels)
    EXPECT_EQ(lookUp(std::string(contract::kCInterfacePrefix) + kernel.name),
              kernel.function)
        << kernel.name;
}

TEST(ContractTest, ReleaseWeightHasTheContractName) {
  EXPECT_EQ(lookUp(contract::kReleaseWeightSymbol),
            address(&kiln_release_weight));
}

} // namespace
