export { RedisClusterProcess } from './redis-cluster-process.ts';
export { redisProblem } from './redis-problem.ts';
export { RedisSentinelProcess } from './redis-sentinel-process.ts';
export { freePort, RedisServerProcess, redisServerInstalled } from './redis-server-process.ts';
