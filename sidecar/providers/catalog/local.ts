// Inference servers that run on the operator's machine, at their documented default port.
// None is switched on by the embedded defaults: a local server is used only when a config
// names it (`catalog: ollama`), so a sidecar never probes ports on its own.

import { caps, localServer, type CatalogEntry } from './types.js';

const CHAT = caps('streaming', 'tools');
const FULL = caps('streaming', 'tools', 'vision', 'json_schema', 'embeddings');

export const LOCAL: readonly CatalogEntry[] = [
  localServer({
    id: 'ollama',
    name: 'Ollama',
    baseUrl: 'http://localhost:11434/v1',
    capabilities: FULL,
    docs: 'https://docs.ollama.com/api/openai-compatibility',
  }),
  localServer({
    id: 'lm-studio',
    name: 'LM Studio',
    baseUrl: 'http://localhost:1234/v1',
    capabilities: FULL,
    docs: 'https://lmstudio.ai/docs/developer/openai-compat',
  }),
  localServer({
    id: 'vllm',
    name: 'vLLM',
    baseUrl: 'http://localhost:8000/v1',
    apiKeyEnv: ['VLLM_API_KEY'],
    capabilities: FULL,
    docs: 'https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html',
  }),
  localServer({
    id: 'llama-cpp',
    name: 'llama.cpp server',
    baseUrl: 'http://localhost:8080/v1',
    capabilities: FULL,
    docs: 'https://github.com/ggml-org/llama.cpp/tree/master/tools/server',
  }),
  localServer({
    id: 'localai',
    name: 'LocalAI',
    baseUrl: 'http://localhost:8080/v1',
    capabilities: caps('streaming', 'tools', 'vision', 'embeddings', 'rerank', 'images', 'audio'),
    docs: 'https://localai.io/features/openai-functions/',
  }),
  localServer({
    id: 'jan',
    name: 'Jan',
    baseUrl: 'http://localhost:1337/v1',
    capabilities: CHAT,
    docs: 'https://www.jan.ai/docs/desktop/api-server',
  }),
  localServer({
    id: 'tgi',
    name: 'Hugging Face Text Generation Inference',
    baseUrl: 'http://localhost:8080/v1',
    capabilities: caps('streaming', 'tools', 'vision', 'json_schema'),
    docs: 'https://huggingface.co/docs/text-generation-inference/messages_api',
  }),
  localServer({
    id: 'sglang',
    name: 'SGLang',
    baseUrl: 'http://localhost:30000/v1',
    capabilities: FULL,
    docs: 'https://docs.sglang.ai/basic_usage/openai_api_completions.html',
  }),
  localServer({
    id: 'xinference',
    name: 'Xorbits Inference',
    baseUrl: 'http://localhost:9997/v1',
    capabilities: caps('streaming', 'tools', 'vision', 'embeddings', 'rerank', 'images', 'audio'),
    docs: 'https://inference.readthedocs.io/en/latest/user_guide/client_api.html',
  }),
  localServer({
    id: 'koboldcpp',
    name: 'KoboldCpp',
    baseUrl: 'http://localhost:5001/v1',
    capabilities: caps('streaming', 'vision'),
    docs: 'https://github.com/LostRuins/koboldcpp/wiki',
  }),
  localServer({
    id: 'tabbyapi',
    name: 'TabbyAPI',
    baseUrl: 'http://localhost:5000/v1',
    apiKeyEnv: ['TABBY_API_KEY'],
    capabilities: CHAT,
    docs: 'https://github.com/theroyallab/tabbyAPI/wiki',
  }),
  localServer({
    id: 'aphrodite',
    name: 'Aphrodite Engine',
    baseUrl: 'http://localhost:2242/v1',
    capabilities: CHAT,
    docs: 'https://aphrodite.pygmalion.chat/',
  }),
  localServer({
    id: 'litellm-proxy',
    name: 'LiteLLM Proxy',
    baseUrl: 'http://localhost:4000/v1',
    apiKeyEnv: ['LITELLM_API_KEY'],
    capabilities: FULL,
    docs: 'https://docs.litellm.ai/docs/proxy/quick_start',
  }),
  localServer({
    id: 'llamafile',
    name: 'llamafile',
    baseUrl: 'http://localhost:8080/v1',
    capabilities: caps('streaming'),
    docs: 'https://github.com/mozilla-ai/llamafile',
  }),
  localServer({
    id: 'gpt4all',
    name: 'GPT4All API server',
    baseUrl: 'http://localhost:4891/v1',
    capabilities: caps('streaming'),
    docs: 'https://docs.gpt4all.io/gpt4all_api_server/home.html',
  }),
  localServer({
    id: 'text-generation-webui',
    name: 'text-generation-webui',
    baseUrl: 'http://localhost:5000/v1',
    capabilities: CHAT,
    docs: 'https://github.com/oobabooga/text-generation-webui/wiki/12-%E2%80%90-OpenAI-API',
  }),
  localServer({
    id: 'mlx-lm',
    name: 'MLX LM server',
    baseUrl: 'http://localhost:8080/v1',
    capabilities: CHAT,
    docs: 'https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/SERVER.md',
  }),
  localServer({
    id: 'lmdeploy',
    name: 'LMDeploy',
    baseUrl: 'http://localhost:23333/v1',
    capabilities: caps('streaming', 'tools', 'vision'),
    docs: 'https://lmdeploy.readthedocs.io/en/latest/llm/api_server.html',
  }),
  localServer({
    id: 'docker-model-runner',
    name: 'Docker Model Runner',
    baseUrl: 'http://localhost:12434/engines/v1',
    capabilities: caps('streaming', 'tools', 'embeddings'),
    docs: 'https://docs.docker.com/ai/model-runner/api-reference/',
  }),
  localServer({
    id: 'nim-local',
    name: 'NVIDIA NIM (self-hosted container)',
    baseUrl: 'http://localhost:8000/v1',
    capabilities: caps('streaming', 'tools', 'json_schema'),
    docs: 'https://docs.nvidia.com/nim/large-language-models/latest/api-reference.html',
  }),
  localServer({
    id: 'openllm',
    name: 'OpenLLM (BentoML)',
    baseUrl: 'http://localhost:3000/v1',
    capabilities: CHAT,
    docs: 'https://github.com/bentoml/OpenLLM',
  }),
];
