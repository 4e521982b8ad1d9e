"""A small safetensors reader and writer (the format of docs/checkpoints.md), so the generated code
needs nothing but torch; and the checkpoint's parameters to and from a module's state_dict.
Little-endian hosts only (as are x86 and ARM machines in practice)."""
import ctypes
import json
import os

import torch

SAFETENSORS_DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64, 'U8': torch.uint8}
SAFETENSORS_NAMES = {dtype: name for name, dtype in SAFETENSORS_DTYPES.items()}


def read_safetensors(path):
    """{name: tensor} and the string metadata of a safetensors file."""
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {})
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info['dtype'] not in SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {info['dtype']}, not one of {sorted(SAFETENSORS_DTYPES)}")
        begin, end = info['data_offsets']
        dtype = SAFETENSORS_DTYPES[info['dtype']]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info['shape'])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (sorted by name, as typed-flows does) and string metadata, atomically."""
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name in names:
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in SAFETENSORS_NAMES:
            raise ValueError(f'tensor {name!r}: dtype {t.dtype} cannot be written')
        size = t.numel() * t.element_size()
        blobs.append(ctypes.string_at(t.data_ptr(), size) if size > 0 else b'')
        header[name] = {'dtype': SAFETENSORS_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    # Named as typed-flows names its temporary files (.<name>.<pid>.<12 hex>.tmp beside the target), so
    # that a write cut short by a kill is recognised and removed by the next typed-flows command.
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f'.{os.path.basename(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp')
    try:
        with open(tmp, 'wb') as f:
            f.write(len(text).to_bytes(8, 'little'))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_params(module, path, prefix='params.'):
    """Loads the tensors named prefix + <state_dict key> of a typed-flows checkpoint into module.
    Strict: a missing, extra or mis-shaped tensor is an error naming it."""
    tensors, metadata = read_safetensors(path)
    state = {name[len(prefix):]: t for name, t in tensors.items() if name.startswith(prefix)}
    expected = module.state_dict()
    problems = [f'{prefix}{k}: missing (expected {list(v.shape)})' for k, v in expected.items() if k not in state]
    problems += [f'{prefix}{k}: not a parameter of this model' for k in state if k not in expected]
    problems += [f'{prefix}{k}: shape {list(state[k].shape)}, expected {list(v.shape)}'
                 for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if problems:
        raise ValueError(f'{path} does not match the model:\n  ' + '\n  '.join(problems))
    module.load_state_dict(state)
    return metadata


def save_params(module, path, metadata=None):
    """Writes module.state_dict() as params.<key> tensors."""
    write_safetensors(path, {f'params.{k}': v for k, v in module.state_dict().items()}, metadata)
