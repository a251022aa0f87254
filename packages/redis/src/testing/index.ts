export { redisProblem } from './redis-problem.ts';
export { freePort, RedisServerProcess, redisServerInstalled } from './redis-server-process.ts';
