// ResNet family built in TypeScript as an ONNX inference graph (eval-mode BatchNormalization with
// running stats, as torch.onnx.export writes it), so the training engine treats a model built here
// exactly like an imported one.
import { GraphBuilder, float, type Model } from '@paddock/onnx';
import { Random } from '@paddock/tensor';
import { constant, kaimingNormal, linearUniform } from '../init.ts';

export interface ResNetConfig {
  classes: number;
  /** Channels of each stage. */
  widths: number[];
  /** BasicBlocks per stage. */
  blocks: number[];
  /** 'imagenet': 3×3/2 conv, 3×3 conv, 3×3/2 max pool (÷4, xresnet-style deep stem);
   *  'torchvision': 7×7/2 conv, 3×3/2 max pool (÷4, the original ResNet stem);
   *  'small': one 3×3 conv at full resolution, for 28–64 px images. */
  stem: 'imagenet' | 'torchvision' | 'small';
  /** Downsampling shortcut: 'avgpool' (ResNet-D: 2×2 average pool, then 1×1 conv; default) or
   *  'strided' (torchvision: 1×1 conv of stride 2). */
  shortcut?: 'avgpool' | 'strided';
  /** Stem channels. */
  stemWidth: number;
  seed: number;
}

export const architectures: Record<string, Omit<ResNetConfig, 'classes' | 'seed'>> = {
  // ~0.7 M parameters: fits 2 CPU cores at 96–128 px.
  'resnet-small': { widths: [32, 64, 128, 256], blocks: [1, 1, 1, 1], stem: 'imagenet', stemWidth: 24 },
  // torchvision's resnet18 (11.2 M parameters with 1000 classes).
  resnet18: { widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], stem: 'torchvision', stemWidth: 64, shortcut: 'strided' },
  // ResNet-18 layout at quarter width.
  'resnet18-narrow': { widths: [16, 32, 64, 128], blocks: [2, 2, 2, 2], stem: 'imagenet', stemWidth: 16 },
  // For Fashion-MNIST-sized images.
  'resnet-tiny': { widths: [16, 32, 64], blocks: [1, 1, 1], stem: 'small', stemWidth: 16 },
};

export function resnet(config: ResNetConfig, input: { channels: number; height: number; width: number }): Model {
  const random = new Random(config.seed);
  const b = new GraphBuilder('paddock_resnet');
  let x = b.input('input', 'float32', ['N', input.channels, input.height, input.width]);
  let channels = input.channels;
  let layer = 0;

  const convBn = (name: string, inp: string, cin: number, cout: number, k: number, stride: number, relu: boolean, zeroGamma = false) => {
    const w = b.initializer(`${name}.conv.weight`, kaimingNormal([cout, cin, k, k], cout * k * k, random.fork(`${name}.conv`)));
    const pad = Math.floor(k / 2);
    let y = b.op('Conv', [inp, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    // fastai's xresnet zero-initialises the last BN of each residual branch: blocks start as identity.
    const gamma = b.initializer(`${name}.bn.weight`, constant([cout], zeroGamma ? 0 : 1));
    const beta = b.initializer(`${name}.bn.bias`, constant([cout], 0));
    const mean = b.initializer(`${name}.bn.running_mean`, constant([cout], 0));
    const variance = b.initializer(`${name}.bn.running_var`, constant([cout], 1));
    y = b.op('BatchNormalization', [y, gamma, beta, mean, variance], { epsilon: 1e-5, momentum: float(0.9) });
    return relu ? b.op('Relu', [y]) : y;
  };

  if (config.stem === 'imagenet') {
    x = convBn('stem.0', x, channels, config.stemWidth, 3, 2, true);
    x = convBn('stem.1', x, config.stemWidth, config.stemWidth, 3, 1, true);
    x = b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  } else if (config.stem === 'torchvision') {
    x = convBn('stem.0', x, channels, config.stemWidth, 7, 2, true);
    x = b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  } else {
    x = convBn('stem.0', x, channels, config.stemWidth, 3, 1, true);
  }
  channels = config.stemWidth;

  config.widths.forEach((width, stage) => {
    for (let i = 0; i < config.blocks[stage]; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const name = `layer${stage + 1}.${i}`;
      let branch = convBn(`${name}.conv1`, x, channels, width, 3, stride, true);
      branch = convBn(`${name}.conv2`, branch, width, width, 3, 1, false, true);
      let shortcut = x;
      if (stride !== 1 || channels !== width) {
        if (config.shortcut === 'strided') shortcut = convBn(`${name}.downsample`, shortcut, channels, width, 1, stride, false);
        else {
          // ResNet-D shortcut: average-pool then 1×1 conv, so no activation is skipped over.
          if (stride !== 1) shortcut = b.op('AveragePool', [shortcut], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1, count_include_pad: 0 });
          shortcut = convBn(`${name}.downsample`, shortcut, channels, width, 1, 1, false);
        }
      }
      x = b.op('Relu', [b.op('Add', [branch, shortcut])]);
      channels = width;
      layer++;
    }
  });

  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: 1 });
  const fcW = b.initializer('fc.weight', linearUniform([config.classes, channels], channels, random.fork('fc.weight')));
  const fcB = b.initializer('fc.bias', linearUniform([config.classes], channels, random.fork('fc.bias')));
  b.opN('Gemm', [pooled, fcW, fcB], { transB: 1 }, { outputs: ['logits'] });
  b.output('logits', 'float32', ['N', config.classes]);
  return b.build({ opset: 17, metadata: { 'paddock.arch': JSON.stringify({ ...config, layers: layer }) } });
}
